"""Everything that imports Keras or TensorFlow: model, input pipeline, callbacks, fitting, the classifier."""
