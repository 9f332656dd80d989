"""One server, many pupils: training slots, runs, history, the board, handwriting sets.

Neither streamlit nor TensorFlow: the app hands a run its training function.
"""
