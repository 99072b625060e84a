// Nothing to import: this target only supplies the harness's entry point (see FuzzMain.c).
