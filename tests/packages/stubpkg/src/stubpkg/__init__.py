"""Its names come from the stub beside it, parsed at import (lazy_loader's attach_stub)."""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
