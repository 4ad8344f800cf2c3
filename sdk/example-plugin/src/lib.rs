//! An example third-party loss plugin (SimPO), built as a shared library and loaded at run time.
