raise ImportError("the bundled fake json shadowed the stdlib")
