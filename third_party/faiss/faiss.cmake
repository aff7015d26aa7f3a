# FAISS through its C API, as the imported target fidx::faiss.
#
# -DFAISS_ROOT=<prefix>  use an installed FAISS that ships the C API library
#                        (lib/libfaiss_c.*, lib/libfaiss*.*, include/faiss/c_api)
# otherwise              build Debian's FAISS 1.7.3 source once with
#                        third_party/faiss/build-faiss and use that (cached
#                        outside the build folder, so a clean fidx build does
#                        not rebuild FAISS)
set(FAISS_ROOT "" CACHE PATH "Prefix of an installed FAISS with its C API library")

if(FAISS_ROOT)
  find_library(FIDX_FAISS_C_LIB NAMES faiss_c PATHS ${FAISS_ROOT}/lib ${FAISS_ROOT}/lib64 NO_DEFAULT_PATH)
  find_library(FIDX_FAISS_LIB NAMES faiss_avx512 faiss_avx2 faiss PATHS ${FAISS_ROOT}/lib ${FAISS_ROOT}/lib64 NO_DEFAULT_PATH)
  find_path(FIDX_FAISS_INCLUDE faiss/c_api/faiss_c.h PATHS ${FAISS_ROOT}/include NO_DEFAULT_PATH)
  if(NOT FIDX_FAISS_C_LIB OR NOT FIDX_FAISS_LIB OR NOT FIDX_FAISS_INCLUDE)
    message(FATAL_ERROR "FAISS_ROOT=${FAISS_ROOT} has no FAISS C API (need lib/libfaiss_c, lib/libfaiss and include/faiss/c_api)")
  endif()
  get_filename_component(_faiss_name ${FIDX_FAISS_LIB} NAME_WE)
  set(FIDX_FAISS_VERSION "external ${_faiss_name} from ${FAISS_ROOT}")
else()
  execute_process(
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/build-faiss
    OUTPUT_VARIABLE _faiss_prefix
    RESULT_VARIABLE _faiss_rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _faiss_rc EQUAL 0 OR NOT EXISTS "${_faiss_prefix}/.complete")
    message(FATAL_ERROR "building FAISS failed (third_party/faiss/build-faiss); see the messages above")
  endif()
  set(FIDX_FAISS_C_LIB ${_faiss_prefix}/lib/libfaiss_c.a)
  set(FIDX_FAISS_LIB ${_faiss_prefix}/lib/libfaiss.a)
  set(FIDX_FAISS_INCLUDE ${_faiss_prefix}/include)
  file(STRINGS "${_faiss_prefix}/.complete" _faiss_stamp)
  set(_faiss_version "?")
  set(_faiss_level "?")
  foreach(_line IN LISTS _faiss_stamp)
    if(_line MATCHES "^version=(.*)$")
      set(_faiss_version ${CMAKE_MATCH_1})
    elseif(_line MATCHES "^level=(.*)$")
      set(_faiss_level ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set(FIDX_FAISS_VERSION "${_faiss_version} (${_faiss_level})")
  message(STATUS "FAISS ${FIDX_FAISS_VERSION} from ${_faiss_prefix}")
endif()

# OpenBLAS built for OpenMP (Debian's libopenblas0-openmp), found by path and
# pinned with an rpath whatever the system's BLAS alternative is: its threads
# are libgomp's, shared with FAISS and fidx. The pthreads build runs its own
# threads beside OpenMP's spinning ones, and batched searches then take about
# twice as long (measured with bench/: 1000 queries over 100,000 rows,
# 582 ms against 284 ms). It includes LAPACK.
find_library(FIDX_OPENBLAS_OPENMP NAMES openblas
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
if(FIDX_OPENBLAS_OPENMP)
  set(BLAS_LIBRARIES ${FIDX_OPENBLAS_OPENMP})
  set(LAPACK_LIBRARIES "")
  get_filename_component(FIDX_BLAS_DIR ${FIDX_OPENBLAS_OPENMP} DIRECTORY)
  list(APPEND CMAKE_BUILD_RPATH ${FIDX_BLAS_DIR})
  list(APPEND CMAKE_INSTALL_RPATH ${FIDX_BLAS_DIR})
  message(STATUS "BLAS: ${FIDX_OPENBLAS_OPENMP} (OpenMP threads)")
else()
  message(WARNING "libopenblas-openmp-dev is not installed: using the default BLAS; batched searches will be slower")
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS REQUIRED)
  find_package(LAPACK REQUIRED)
endif()
find_package(OpenMP REQUIRED COMPONENTS CXX)

add_library(fidx_faiss_core UNKNOWN IMPORTED)
set_target_properties(fidx_faiss_core PROPERTIES IMPORTED_LOCATION ${FIDX_FAISS_LIB})
add_library(fidx::faiss UNKNOWN IMPORTED)
set_target_properties(fidx::faiss PROPERTIES
  IMPORTED_LOCATION ${FIDX_FAISS_C_LIB}
  INTERFACE_INCLUDE_DIRECTORIES ${FIDX_FAISS_INCLUDE}
  INTERFACE_LINK_LIBRARIES "fidx_faiss_core;${LAPACK_LIBRARIES};${BLAS_LIBRARIES};OpenMP::OpenMP_CXX;stdc++;m")
