"""The streamlit layer: the only package that imports streamlit."""
