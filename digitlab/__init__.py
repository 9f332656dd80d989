"""digitlab: learn how a neural network reads handwriting.

The layers show in the folders: `digitlab.app` (the only package that imports streamlit),
`digitlab.learn` (the only one that imports Keras and TensorFlow), `digitlab.classroom` (neither),
and the flat pure modules. The README's "Layout" says what each owns and may import.
"""

__version__ = "0.1.0"
