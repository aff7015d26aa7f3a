# Turns fidx's manual pages, written in a small markdown, into roff (man(7)).
#   awk -v version=0.1.0 -f cmake/md2man.awk docs/man/fidx-build.1.md > fidx-build.1
# The markdown:
#   % NAME SECTION           the title line (first line)
#   # HEADING                a section (.SH)
#   * `-o`, `--output` <x>   an option or term; the lines indented by four
#       description           spaces below it are its description (.TP)
#   ```                      a literal block, until the next ```
#   blank line               a new paragraph
# Inline: `code` and **bold** in bold, <word> and *word* in italics.

function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}

function inline(s,    out, m) {
	s = esc(s)
	out = ""
	while (match(s, /`[^`]*`|\*\*[^*]+\*\*|\*[^* ][^*]*\*|<[A-Za-z][A-Za-z0-9_.\\-]*>/)) {
		m = substr(s, RSTART, RLENGTH)
		out = out substr(s, 1, RSTART - 1)
		if (m ~ /^`/)
			out = out "\\fB" substr(m, 2, RLENGTH - 2) "\\fR"
		else if (m ~ /^\*\*/)
			out = out "\\fB" substr(m, 3, RLENGTH - 4) "\\fR"
		else if (m ~ /^\*/)
			out = out "\\fI" substr(m, 2, RLENGTH - 2) "\\fR"
		else
			out = out "\\fI" substr(m, 2, RLENGTH - 2) "\\fR"
		s = substr(s, RSTART + RLENGTH)
	}
	return out s
}

# A text line must not start with a roff control character.
function line(s) {
	if (s ~ /^[.']/)
		s = "\\&" s
	print s
}

NR == 1 && /^% / {
	split(substr($0, 3), t, " ")
	printf ".TH \"%s\" \"%s\" \"\" \"fidx %s\" \"fidx manual\"\n", t[1], t[2], version
	next
}

/^```/ {
	if (literal) {
		print ".fi\n.RE"
		literal = 0
	} else {
		print ".PP\n.RS 4\n.nf"
		literal = 1
		item = blank = 0
	}
	next
}

literal {
	line(esc($0))
	next
}

/^# / {
	print ".SH " esc(substr($0, 3))
	item = blank = 0
	next
}

/^\* / {
	print ".TP"
	line(inline(substr($0, 3)))
	item = 1
	blank = 0
	next
}

/^$/ {
	blank = 1
	next
}

/^    / && item {
	if (blank)
		print ".IP"
	blank = 0
	s = $0
	sub(/^    /, "", s)
	line(inline(s))
	next
}

{
	if (blank || item)
		print ".PP"
	item = blank = 0
	line(inline($0))
}
