"""digitlab: learn how a neural network reads handwriting.

The core (everything in this package but `digitlab.ui`) imports without streamlit,
and TensorFlow is imported only by the modules that need it, so the home page
and the router start fast.
"""

__version__ = "0.1.0"
