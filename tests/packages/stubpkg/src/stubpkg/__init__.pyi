from . import shapes
from .shapes import area
