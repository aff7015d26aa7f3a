#!/usr/bin/env python3
"""Cross-checks fidx's YAML loader (io/hub/yamltree.c) against PyYAML.

    pyyaml_check.py YAMLCHECK [--verbose]
    pyyaml_check.py YAMLCHECK --random COUNT [SEED]

YAMLCHECK is the tests/yaml/yamlcheck program. Every document of CASES
below goes through fidx and through yaml.safe_load (what datasets and
huggingface_hub read dataset cards with); both results are put in one
canonical text and compared. The documents where they part, on purpose or
through libyaml, are listed in KNOWN with the reason. Exits 77 (skipped)
when PyYAML is not installed.

--random builds COUNT documents from YAML fragments and small mutations
instead, and counts the ways fidx and PyYAML part (a survey, not a test).
"""
import base64
import collections
import datetime
import random
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("pyyaml_check: PyYAML (python3-yaml) is not installed: skipped")
    sys.exit(77)

# Where fidx and PyYAML part, on purpose or through libyaml (whose parser
# PyYAML's C loader uses, while yaml.safe_load runs PyYAML's own).
KNOWN = {
    # fidx's choices
    "a: 1\na: 2\n": "duplicate keys: PyYAML keeps the last, fidx refuses (as the Hub does)",
    "{a: 1, a: 2}": "duplicate keys",
    "{1: a, \"1\": b}": "keys compare by their text: 1 and \"1\" are one key for fidx, two for PyYAML",
    "{1: a, yes: b}": "keys compare by their text: yes and 1 are two keys for fidx, one for Python",
    "&a [*a]": "an alias inside the node it names (PyYAML builds a list that holds itself)",
    "a: &a {b: *a}": "an alias inside the node it names",
    "- " * 70 + "x\n": "nesting deeper than 64 levels",
    "[" * 70 + "]" * 70: "nesting deeper than 64 levels",
    "<<: !!set {a}\n": "a !!set is a list for fidx, so it cannot be merged",
    "k: 0x" + "f" * 40 + "\n": "fidx reads binary, octal, hex and base 60 ints up to 64 bits",
    # libyaml's parser is stricter than PyYAML's
    "a: \"\\ud800\"": "libyaml refuses escapes of UTF-16 surrogates (PyYAML makes unpaired ones)",
    "a: >\n \tx\n": "libyaml refuses a tab after the spaces of a block scalar's first line",
    "[?]": "libyaml refuses a lone '?' in a flow sequence",
    "{a, b:}": "libyaml refuses an empty value right before '}' or ','",
    "[a, b:,]": "libyaml refuses an empty value right before '}' or ','",
    # libyaml's parser is looser than PyYAML's
    "{a: -?}": "libyaml reads '-?' as a plain scalar in a flow collection",
    "[? a? : b]": "libyaml reads 'a?' as a plain scalar after '?' in a flow collection",
    ">#\n x\n": "libyaml takes a comment right after a block scalar's indicator",
}


# Documents, valid and not. Dataset cards first, then YAML 1.1's corners.
CASES = [
    # the shapes of dataset cards
    "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n",
    "configs:\n  - config_name: en\n    data_files: [\"en/*.csv\", 'x''y']\n    default: true\n",
    "license: mit\ntask_categories:\n- text-classification\nsize_categories:\n- 10K<n<100K\n",
    "dataset_info:\n  features:\n  - name: text\n    dtype: string\n  - name: label\n"
    "    dtype:\n      class_label:\n        names:\n          '0': neg\n          '1': pos\n"
    "  splits:\n  - name: train\n    num_bytes: 1234567\n    num_examples: 1000\n"
    "  download_size: 89012\n  dataset_size: 1234567.0\n",
    "pretty_name: \"A \\\"quoted\\\" name\"\ndescription: |\n  Line one.\n  Line two.\n\n"
    "summary: >-\n  folded\n  text\n\nkeep: |+\n  kept\n\n",
    "base: &base\n  data_files: a.csv\n  default: yes\nconfigs:\n- <<: *base\n  config_name: a\n"
    "- <<: [*base, {data_dir: x}]\n  config_name: b\n  default: no\n",
    "tags: &t [a, b]\nother: *t\nnested: {x: *t, y: [*t, *t]}\n",
    "a: 1\n...\n# after the end\n",
    "--- # a comment\na: 1\n",
    "%YAML 1.1\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    # scalars: YAML 1.1 implicit types
    "[~, null, Null, NULL, nULL, '', \"\"]",
    "[yes, Yes, YES, yEs, no, No, NO, true, True, TRUE, false, False, FALSE, on, On, ON, off, Off, OFF, y, n]",
    "[0, -0, +0, 1, -1, +12, 1_000, 0b1010, -0b1_1, 0b, 012, 0_17, 08, 09, 0x1F, -0xff, 0x_1, 0x, 0o17]",
    "[1:30, -1:30, 190:20:30, 1:60, 1:5, 0:30, 01:30]",
    "[1.5, -1.5, +1.5, 1., .5, 1.0e+5, 1.0e5, 1e5, 1E+5, 1.0E-3, 6.02e+23, 1_0.5_0, ._5, 0.]",
    "[.inf, -.inf, +.inf, .Inf, .INF, .iNf, .nan, .NaN, .NAN, -.nan, inf, nan]",
    "[1:30.5, -1:30.5, 190:20:30.15, 1:30.]",
    "[2001-12-14, 2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5, 2001-12-15T02:59:43.1Z,"
    " 2002-12-14, 2001-1-1, 2001-01-01 1:00:00, 2001-12-14 21:59:43.1234567 +5:30]",
    "[2021-02-29, 2020-02-29, 0000-01-01, 2021-13-01, 2021-01-01 25:00:00, 2021-01-01 10:00:00 +24]",
    "[=, <<]",
    "a: =",
    "= : 1",
    "<<: {a: 1}\n",
    "a: <<",
    "[123abc, 1.2.3, 1e, 0x1G, '0x1f', \"12\", 12 # comment\n]",
    "[-, --, ---x, -1-, +, +-1, :x, ?x]",
    "k: " + "9" * 30 + "\n",
    "k: 0x" + "f" * 40 + "\n",
    "k: 123456789012345678901234567890.5\n",
    "k: 1e400\n",
    "k: 1.0e+400\n",
    "k: 1.0e-400\n",
    # explicit tags
    "[!!str 1, !!str yes, !!str ~, !!int '12', !!int ' 12 ', !!int --5, !!int 0o17, !!int 0x0x1f, !!float 1,"
    " !!float ' inf ', !!float -infinity, !!bool TrUe, !!null foo, !!str, !!null]",
    "[!!int abc]", "[!!int '']", "[!!int 1.5]", "[!!float abc]", "[!!bool maybe]",
    "[!!timestamp 2001-12-14, !!timestamp '2001-1-1']", "[!!timestamp yesterday]",
    "[!!binary aGVsbG8=, !!binary 'aGVs bG8=', !!binary '', !!binary |\n  aGVs\n  bG8=\n]",
    "[!!binary a]", "[!!binary aGVsbG8]", "[!!binary aGVsbG8=extra]",
    "[! 12, ! '12', ! yes, ! \"1.5\", ! |\n  12\n]",
    "[! |\n  yes\n]",
    "!!map {a: 1}", "!!seq [a]", "!!map [a]", "!!seq {a: 1}", "!!str [a]", "!!int {a: 1}",
    "!foo x", "!!python/tuple [1, 2]", "!<tag:yaml.org,2002:str> 12",
    "!!set {a, b, c}", "!!set {a: 1}", "!!omap [a: 1, b: [x]]", "!!pairs [a: 1, a: 2]",
    "!!omap [a, b]", "!!omap [{a: 1, b: 2}]", "!!omap {a: 1}",
    # anchors, aliases, merges
    "a: &x 1\nb: *x\nc: &y [*x, {k: *x}]\nd: *y\n",
    "a: *x\n",
    "a: &x 1\nb: &x 2\n",
    "&a [*a]",
    "a: &a {b: *a}",
    "<<: [{a: 1, b: 2}, {b: 3, c: 4}]\nd: 5\nb: 6\n",
    "x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n",
    "x: &x {a: 1}\ny:\n  a: 2\n  <<: *x\n",
    "<<: [{a: 1}, {<<: {b: 2}, c: 3}]\n",
    "<<: 1\n", "<<: [1]\n", "<<: [[a]]\n",
    "x: &x {a: 1}\ny: {<<: *x, <<: {b: 2}}\n", "!!pairs [a: 1, a: 2]",
    "&k a: *k\n",
    # keys
    "{1: a, 2: b}", "{1.5: a, yes: b, ~: c, 2001-12-14: d}", "{[a]: 1}", "{{a: 1}: 2}",
    "? - a\n: 1\n", "? a\n: 1\n", "? |\n  block key\n: v\n", "{a, b: , c: d}",
    "{a: 1, a: 2}", "a: 1\na: 2\n", "{1: a, \"1\": b}",
    # block and flow structure
    "- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n  k: v\n-\n",
    "configs:\n- a\n- b\nother: 1\n",
    "a:\n  - 1\n  - 2\nb:\n- 3\n",
    "a: [1,\n  2,\n  {b: c,\n   d: e}]\n",
    "a: \"multi\n  line\"\nb: 'single\n\n  quoted'\n",
    "a: plain\n  continued\n\n  again\n",
    "a: x\n  b: c\n", "a: b: c", "- a\nb: 1\n", "a: 1\n- b\n", "a:\n    b: 1\n  c: 2\n",
    "\ta: 1", "a:\n\tb: 1\n", "a: [1, 2", "a: {b: 1", "a: \"open", "a: 'open",
    "[a, b, ]", "[, a]", "{a: 1,}", "[a: 1, b]", "[a b, c d]",
    "a: |\n  x\n y\n", "a: >\n\n  folded\n  text\n\n  para\n", "a: |2\n   indented\n",
    "key with spaces: v\n\"quoted key\": v\n'single': v\n",
    "a: 'it''s'\nb: \"esc \\t \\n \\\\ \\\" \\x41 \\u00e9 \\U0001F600 \\N \\_ \\L \\P \\e \\/ \\ \"\n",
    "a: \"\\q\"", "a: \"\\xZ1\"", "a: \"\\ud800\"", "a: \"\\U00110000\"",
    "a: @x", "a: `x", "a: %x", "a: !x", "a: |x",
    "a: 1\n---\nb: 2\n", "---\n---\n", "...\n", "---\n...\n", "", "# only a comment\n", "---\n",
    "a: 1 # c\n#c\nb: 2#not a comment\n",
    "\ufeffa: 1\n", "a: 1\r\nb: 2\r\n", "a: 1\rb: 2\r",
    "a: \x85b\n", "a: b\u2028c\n", "a: \x01\n", "a: \x7f\n", "a: \ufffe\n", "a: \u00e9\u4e2d\U0001F600\n",
    # tabs: PyYAML's scanner allows them only in quotes, block scalars and comments
    "a: x\tb\n", "a:\tx\n", "a: 1\t\n", "a: 1\t# c\n", "a: 1 #\tc\n", "a: [1,\t2]\n", "a\t: 1\n",
    "a: 1\n\t\nb: 2\n", "a: 1\n\t# c\n", "a: \"x\ty\"\nb: 'x\ty'\n", "a: \"x\n\ty\"\n",
    "a: |\n  x\ty\n\t\n", "a: |\n  x\ty\n", "a: | # c\tc\n  x\n", "a: |\t\n  x\n", "a: >\n \tx\n",
    "%YAML\t1.1\n---\na: 1\n", "a: &x\t1\n", "- \tx\n", "{a:\t1}", "a: x\n\ty\n", "a: 'x'\t\n",
    "- " * 70 + "x\n",
    "[" * 70 + "]" * 70,
    "a: &a [1, 2]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n",
    "k: " + "x" * 2000 + "\n",
    "? " + "k" * 1100 + "\n: v\n",
    "k" * 1100 + ": v\n",
] + list(KNOWN)
CASES = list(dict.fromkeys(CASES))

def text(x):
    """str() of a scalar as fidx keeps it."""
    if isinstance(x, bool):
        return "True" if x else "False"
    if x is None:
        return "None"
    if isinstance(x, bytes):
        return base64.b64encode(x).decode()
    return str(x)


def qstr(s):
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def canon(x):
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        return repr(x)
    if isinstance(x, str):
        return qstr(x)
    if isinstance(x, (bytes, datetime.date)):
        return "raw(%s)" % text(x)
    if isinstance(x, dict):
        return "{" + ",".join(qstr(text(k)) + ":" + canon(v) for k, v in x.items()) + "}"
    if isinstance(x, set):
        return "[" + ",".join(qstr(text(k)) for k in sorted(x, key=text)) + "]"
    if isinstance(x, tuple):
        return "[" + qstr(text(x[0])) + "," + canon(x[1]) + "]"
    if isinstance(x, list):
        return "[" + ",".join(canon(v) for v in x) + "]"
    raise TypeError(type(x))


def pyyaml(doc):
    try:
        value = yaml.safe_load(doc)
    except Exception as e:  # PyYAML raises more than YAMLError (ValueError, KeyError, ...)
        return "error %s: %s" % (type(e).__name__, str(e).split("\n")[0])
    try:
        return canon(value)
    except RecursionError:
        return "(a value that holds itself)"


def fidx(program, docs):
    data = b"\0".join(d.encode("utf-8", "surrogatepass") for d in docs)
    res = subprocess.run([program], input=data, capture_output=True, check=True)
    lines = res.stdout.decode("utf-8", "surrogateescape").split("\n")[:-1]
    if len(lines) != len(docs):
        raise SystemExit("pyyaml_check: %d answers for %d documents" % (len(lines), len(docs)))
    return lines


SCALARS = ["a", "b c", "1", "-1", "0x1f", "1.5", "1e5", "1.0e+5", ".inf", "~", "null", "yes", "No",
           "on", "2001-12-14", "2001-12-14 1:00:00", "1:30", "012", "09", "'q'", '"d\\tq"', "'it''s'",
           '"\\x41"', "=", "<<", "-", "?", ":", "x:y", "a#b", "#c", "!!str 1", "!!int 3", "! 5", "!x y",
           "&a v", "*a", "[]", "{}", "[1, 2]", "{k: v}", "|\n  lit\n", ">-\n  fold\n  ed\n",
           "'multi\n  line'", "@x", "%x", "a b", "x\t", "'a\tb'", "[a, b,]", "{a, b}", "{a: }",
           "[? a : b]", "!!binary aGk=", "!!set {a}", "!!omap [a: 1]", "0b11", "+.5", "._", "1_0",
           "\u00e9", "\\", "'", '"']
KEYS = ["k", "a b", "1", "yes", "~", "'q'", '"d"', "<<", "=", "? k", "[a]", "{a: 1}", "&k k", "*a",
        "-", "x y", "2001-01-01", "1.5"]


def random_doc(r):
    def node(depth, ind):
        x = r.random()
        if depth > 3 or x < 0.45:
            return " " + r.choice(SCALARS)
        sp = " " * ind
        if x < 0.7:
            return "\n" + "\n".join(sp + "-" + node(depth + 1, ind + 2) for _ in range(r.randint(1, 3)))
        sp += " " * r.choice([0, 1, 2, 2, 4])
        return "\n" + "\n".join(sp + r.choice(KEYS) + ":" + node(depth + 1, len(sp) + 2)
                                 for _ in range(r.randint(1, 3)))
    x = r.random()
    d = (r.choice(SCALARS) if x < 0.1 else
         "[" + ", ".join(r.choice(SCALARS) for _ in range(r.randint(0, 4))) + "]" if x < 0.2 else
         node(0, 0).lstrip("\n"))
    for _ in range(r.randint(1, 3) if r.random() < 0.3 else 0):
        i = r.randrange(len(d) + 1)
        d = d[:i] + r.choice(" \t\n-:#[]{},'\"&*!|>?%") + d[i:]
    return d


def survey(program, count, seed):
    r = random.Random(seed)
    docs = list(dict.fromkeys(random_doc(r) for _ in range(count)))
    kinds = collections.Counter()
    for doc, ours in zip(docs, fidx(program, docs)):
        theirs = pyyaml(doc)
        if ours == theirs or (ours.startswith("error") and theirs.startswith("error")):
            kinds["read alike"] += 1
        elif ours.startswith("error"):
            kinds["fidx refuses: " + ours.split(": ", 1)[1].split(" (")[0].split('"')[0]] += 1
        elif theirs.startswith("error"):
            kinds["PyYAML refuses: " + theirs.split(":")[0][6:]] += 1
        else:
            kinds["read otherwise"] += 1
    print("pyyaml_check: PyYAML %s: %d distinct random documents (seed %d)" % (yaml.__version__, len(docs), seed))
    for kind, n in kinds.most_common():
        print("%7d  %s" % (n, kind))
    return 0


def main():
    sys.stdout.reconfigure(errors="backslashreplace")
    if len(sys.argv) < 2:
        print(__doc__.strip().split("\n")[2], file=sys.stderr)
        return 2
    if "--random" in sys.argv:
        i = sys.argv.index("--random")
        return survey(sys.argv[1], int(sys.argv[i + 1]), int(sys.argv[i + 2]) if len(sys.argv) > i + 2 else 1)
    verbose = "--verbose" in sys.argv
    lines = fidx(sys.argv[1], CASES)
    bad = same = errors = known = 0
    for doc, ours in zip(CASES, lines):
        theirs = pyyaml(doc)
        alike = ours == theirs or (ours.startswith("error") and theirs.startswith("error"))
        if alike and doc not in KNOWN:
            same += 1
            errors += ours.startswith("error")
            if verbose:
                print("same   %r\n  fidx: %s\n  py:   %s" % (doc[:60], ours[:150], theirs[:150]))
        elif not alike and doc in KNOWN:
            known += 1
            if verbose:
                print("known  %r (%s)\n  fidx: %s\n  py:   %s" % (doc[:60], KNOWN[doc], ours[:150], theirs[:150]))
        else:
            bad += 1
            print("%s %r\n  fidx: %s\n  py:   %s" % ("DIFF  " if not alike else "NOW ALIKE (drop from KNOWN)",
                                                   doc[:80], ours[:200], theirs[:200]))
    print("pyyaml_check: PyYAML %s: %d documents, %d read alike (%d refused by both), %d known "
          "differences, %d unexpected" % (yaml.__version__, len(CASES), same, errors, known, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
