/* A native library the extension links to, as a compiled project vendors one: cibuildwheel
   builds such libraries in `before-all`, and auditwheel copies them into the wheel. */
long cext_twice(long x) { return 2 * x; }
