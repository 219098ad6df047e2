"""Sources: one module per kind; each turns an input into RawItems or Rejections."""
