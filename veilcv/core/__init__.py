"""The redaction core: kernels, detection, media I/O, metadata and the pipeline. No CLI code here."""
