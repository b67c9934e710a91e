"""The advanced mass interface's endpoints, one module per family."""
