# The compiled twin of engineio_fast._pure: one extension module so every
# kernel shares one compilation unit (no cross-module calls between them).
#
# Rule for every kernel here: the exact builtin types the server really
# passes (str, bytes, bytearray, memoryview of unsigned bytes, int, float)
# take a C path; anything else (subclasses, duck types, other buffer
# exporters) is handed to the pure twin. Why: the pure module is the spec,
# and delegating odd inputs means their results and exception classes
# cannot drift from it, while the C code stays small enough to audit.
#
# Directives (language_level, boundscheck, wraparound, ...) are set once in
# setup.py, not here.

cimport cython
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release,
                             PyBUF_SIMPLE, PyBUF_RECORDS_RO)
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_Substring, PyUnicode_Join
from libc.string cimport memcpy
from libc.stdlib cimport malloc, realloc, free

import os

from engineio_fast._pure import codec as _pure_codec
from engineio_fast._pure import packets as _pure_packets
from engineio_fast._pure import wsframe as _pure_wsframe
from engineio_fast._pure import frames as _pure_frames


cdef extern from "Python.h":
    # PEP 393 accessors: read and write str storage directly instead of
    # slicing or encoding (each of those allocates an intermediate object).
    ctypedef unsigned char Py_UCS1
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    int PyUnicode_KIND(object s)
    void *PyUnicode_DATA(object s)
    unsigned int PyUnicode_READ(int kind, void *data, Py_ssize_t index)
    unsigned int PyUnicode_READ_CHAR(object s, Py_ssize_t index)
    bint PyUnicode_IS_ASCII(object s)
    Py_UCS1 *PyUnicode_1BYTE_DATA(object s)
    object PyUnicode_New(Py_ssize_t size, unsigned int maxchar)
    void PyUnicode_WRITE(int kind, void *data, Py_ssize_t index,
                         unsigned int value)
    unsigned int PyUnicode_MAX_CHAR_VALUE(object s)
    Py_ssize_t PyUnicode_FindChar(object s, unsigned int ch, Py_ssize_t start,
                                  Py_ssize_t end, int direction) except -2
    object PyUnicode_DecodeUTF8(const char *s, Py_ssize_t size,
                                const char *errors)
    bint PyUnicode_CheckExact(object o)
    bint PyDict_CheckExact(object o)
    bint PyList_CheckExact(object o)
    bint PyBytes_CheckExact(object o)
    bint PyByteArray_CheckExact(object o)
    bint PyMemoryView_Check(object o)
    bint PyFloat_CheckExact(object o)
    bint PyLong_CheckExact(object o)
    double PyFloat_AS_DOUBLE(object o)
    long long PyLong_AsLongLongAndOverflow(object o, int *overflow) except? -1
    void PyErr_Clear()


cdef int _acquire(object obj, Py_buffer *view) except -1:
    """Fill ``view`` and return 1 when ``obj`` is bytes, bytearray or a 1-D
    contiguous memoryview of unsigned bytes (where ``len(obj)`` is the byte
    count and ``obj[i]`` an int, as the pure twin assumes); else return 0
    and the caller delegates to the pure twin."""
    if PyBytes_CheckExact(obj) or PyByteArray_CheckExact(obj):
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
        return 1
    if type(obj) is not memoryview:
        return 0
    try:
        PyObject_GetBuffer(obj, view, PyBUF_RECORDS_RO)
    except Exception:
        # Released or otherwise unusable view: the pure twin raises the
        # right error for it.
        return 0
    if (view.ndim == 1 and view.itemsize == 1
            and (view.format == NULL
                 or (view.format[0] == b'B' and view.format[1] == 0))
            and (view.strides == NULL or view.strides[0] == 1)):
        return 1
    PyBuffer_Release(view)
    return 0


include "codec.pxi"
include "packets.pxi"
include "sessions.pxi"
include "timers.pxi"
include "wsframe.pxi"
include "frames.pxi"
include "sio.pxi"
include "eager.pxi"
