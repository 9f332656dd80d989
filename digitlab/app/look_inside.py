"""Draw's "Look inside the network": first-layer weights, hidden layers' answers, saliency.

Widgets only: the numbers come from `digitlab.learn.inside`, the pictures from `digitlab.inside_charts`
and `digitlab.charts`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from digitlab import image_charts, inside_charts
from digitlab.app import state
from digitlab.app.widgets import show_pixels
from digitlab.learn import inside

INSIDE = "draw_inside"  # which "Look inside" view is open, if any
VIEWS = {
    "weights": ":material/grid_view: First layer's weights",
    "layers": ":material/layers: Hidden layers",
    "saliency": ":material/highlight: Saliency",
}


def show_weights(classifier) -> None:
    try:
        kind, weights = inside.first_layer_weights(classifier)
    except ValueError as error:
        st.info(str(error))
        return
    if kind == "dense":
        st.caption(
            "Each tile is one unit of the first hidden layer: its 784 weights, one per pixel, laid out as "
            "the 28×28 image. Blue pixels excite the unit, red ones inhibit it."
        )
        st.plotly_chart(image_charts.weights_grid(weights), theme=None, key="inside_weights")
    else:
        st.caption(
            f"This network is a CNN: its first layer is {weights.shape[-1]} filters of "
            f"{weights.shape[0]}×{weights.shape[1]} pixels, each slid over the whole image, so a filter is "
            "shown at its own size, not 28×28. Blue pixels excite it, red ones inhibit it: most find edges "
            "and strokes of one direction."
        )
        st.plotly_chart(inside_charts.filters_grid(weights), theme=None, key="inside_weights")


def show_layers(view: inside.InsideView) -> None:
    for layer in view.layers:
        if layer.kind == "conv":
            height, width, channels = layer.values.shape
            shown = min(channels, 32)
            st.markdown(f"**{layer.name}**: {channels} feature maps of {height}×{width} (first {shown})")
            figure = inside_charts.feature_maps(layer.values, max_maps=shown)
        else:
            active = int((layer.values > 0).sum())
            st.markdown(f"**{layer.name}**: {layer.values.size} units, {active} active")
            figure = inside_charts.units_grid(layer.values)
        st.plotly_chart(figure, theme=None, key=f"inside_{layer.name}")


def show_saliency(view: inside.InsideView, image: np.ndarray) -> None:
    times_input = st.toggle(
        "Gradient × input",
        key="draw_saliency_times_input",
        help="Only the ink you drew, weighted by its pull.",
    )
    overlay = inside.saliency_overlay(image, inside.saliency(view, image, times_input), side=224)
    with st.container(horizontal=True, wrap=True):
        show_pixels(image, 224, "What the network sees")
        st.image(overlay, width=224, caption=f"Which pixels pushed it towards a {view.target}")
    if times_input:
        meaning = f"red-orange ink pushed it towards {view.target}, blue ink away from it"
    else:
        meaning = f"more ink on red-orange pixels would make it surer of {view.target}, on blue ones less"
    st.caption(f"Brighter is stronger: {meaning} (the gradient of the digit's score for each pixel).")


def look_inside(image: np.ndarray, digit: int) -> None:
    choice = st.segmented_control("Look inside the network", list(VIEWS), format_func=VIEWS.get, key=INSIDE)
    if choice is None:
        return
    classifier = state.active_classifier()
    if classifier.config.members > 1:
        st.caption(
            f"This model is {classifier.config.members} networks that each read the drawing and average "
            "their answers (an ensemble): here is the inside of the first."
        )
    if choice == "weights":
        show_weights(classifier)
        return
    view = inside.look_inside(classifier, image, target=digit)
    if choice == "layers":
        show_layers(view)
    else:
        show_saliency(view, image)
