/* The smallest useful extension: add(a, b), and twice(x) from the native library. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

long cext_twice(long x); /* native/twice.c, linked as libcexttwice.so */

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLong(a + b);
}

static PyObject *twice(PyObject *self, PyObject *args) {
    long x;
    if (!PyArg_ParseTuple(args, "l", &x)) {
        return NULL;
    }
    return PyLong_FromLong(cext_twice(x));
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "Add two integers."},
    {"twice", twice, METH_VARARGS, "Double an integer, in the native library."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_add", NULL, -1, methods};

PyMODINIT_FUNC PyInit__add(void) { return PyModule_Create(&module); }
