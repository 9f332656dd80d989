"""Draw's "Look inside the network": first-layer weights, hidden layers' answers, saliency; and "Why did
it read mine wrong?", the training images nearest to the drawing.

Widgets only: the numbers come from `digitlab.learn.inside` and `digitlab.learn.neighbours`, the pictures
from `digitlab.inside_charts`, `digitlab.image_charts` and `digitlab.charts`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from digitlab import glossary, image_charts, inside_charts, reading
from digitlab.app import state
from digitlab.app.widgets import show_pixels
from digitlab.learn import inside, neighbours

INSIDE = "draw_inside"  # which "Look inside" view is open, if any
WHY = "draw_why"  # the "Why did it read mine wrong?" expander, open or closed
MEANT = "draw_meant"  # the digit the student meant
NEIGHBOURS = 8  # training images in each of the two rows
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
            "the 28×28 image. Ink on blue pixels makes the unit answer more strongly, ink on red ones less."
        )
        st.plotly_chart(image_charts.weights_grid(weights), theme=None, key="inside_weights")
    else:
        st.caption(
            f"This network is a CNN: its first layer is {weights.shape[-1]} filters of "
            f"{weights.shape[0]}×{weights.shape[1]} pixels, each slid over the whole image, so a filter is "
            "shown at its own size, not 28×28. Ink on blue pixels makes it answer more strongly, ink on red "
            "ones less: most find edges and strokes of one direction."
        )
        st.plotly_chart(inside_charts.filters_grid(weights), theme=None, key="inside_weights")


def show_layers(view: inside.InsideView) -> None:
    st.caption(
        "What each layer answers to your drawing, from the first layer to the last: the darker blue a "
        "square, the more strongly it answers. Hover over a layer's ? for what its words mean."
    )
    for layer in view.layers:
        title = glossary.layer_title(layer.name, layer.kind)
        if layer.kind == "conv":
            height, width, channels = layer.values.shape
            shown = min(channels, 32)
            st.markdown(
                f"**{title}**: {channels} feature maps of {height}×{width} (first {shown})",
                help=glossary.explain("filter", "feature map", "activation"),
            )
            figure = inside_charts.feature_maps(layer.values, max_maps=shown)
        else:
            active = int((layer.values > 0).sum())
            st.markdown(
                f"**{title}**: {layer.values.size} units, {active} active",
                help=glossary.explain("unit", "activation") + " Active: answering more than 0.",
            )
            figure = inside_charts.units_grid(layer.values)
        st.plotly_chart(figure, theme=None, key=f"inside_{layer.name}")


def show_saliency(view: inside.InsideView, image: np.ndarray) -> None:
    times_input = st.toggle(
        "Gradient × input",
        key="draw_saliency_times_input",
        help="Shows only the ink you drew, each bit coloured by how hard it pushed towards the answer.",
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


def explain_ensemble(classifier, what_is_shown: str) -> None:
    if classifier.config.members > 1:
        st.caption(
            f"This model is {classifier.config.members} networks that each read the drawing and average "
            f"their answers (an ensemble): {what_is_shown}"
        )


def look_inside(image: np.ndarray, digit: int) -> None:
    choice = st.segmented_control("Look inside the network", list(VIEWS), format_func=VIEWS.get, key=INSIDE)
    if choice is None:
        return
    classifier = state.active_classifier()
    explain_ensemble(classifier, "here is the inside of the first.")
    if choice == "weights":
        show_weights(classifier)
        return
    try:
        view = inside.look_inside(classifier, image, target=digit)
    except ValueError as error:  # a foreign model file built otherwise than digitlab's networks
        st.info(f"Look inside cannot show this model: {error}.")
        return
    if choice == "layers":
        show_layers(view)
    else:
        show_saliency(view, image)


def why_it_read(answer: reading.Reading) -> None:
    """The training images most alike to the drawing, and the nearest of the digit meant; only while open."""
    section = st.expander(
        "Why did it read mine wrong?", icon=":material/compare:", key=WHY, on_change="rerun"
    )
    if not section.open:  # closed: nothing computed, a stroke costs what it did without it
        return
    with section:
        meant = st.pills(  # ten digits wrap on a phone, as ten segments cannot
            "The digit you meant",
            range(10),
            default=answer.top(2)[1][0],  # the network's second choice
            required=True,
            key=MEANT,
            wrap=True,
        )
        classifier, image = state.active_classifier(), answer.steps.centred
        try:
            with st.spinner("Finding the training images most alike (the first time takes a few seconds)…"):
                alike = neighbours.nearest(classifier, image, NEIGHBOURS)
                nearest_meant = neighbours.nearest(classifier, image, NEIGHBOURS, digit=meant)
        except ValueError as error:  # a foreign model file built otherwise than digitlab's networks
            st.info(f"This cannot be shown for this model: {error}.")
            return
        units = neighbours.sample_directions(classifier).shape[1]
        st.caption(
            "These are the training images that look most alike **to the network**, not to us. Inside, it "
            f"turns every drawing into {units} numbers (its last hidden layer) and picks the digit from "
            "those: on top are the training images whose numbers are closest to your drawing's, below the "
            f"closest {meant}s. If the top row is full of other digits, your {meant} looks like them to it."
        )
        explain_ensemble(classifier, "these are the images most alike to the first network.")
        figure = image_charts.neighbours_grid(
            alike.images, alike.labels, nearest_meant.images, meant, read_as=answer.digit
        )
        st.plotly_chart(figure, theme=None, key="draw_neighbours")
        if answer.digit != meant and (alike.labels == answer.digit).any():
            st.caption(f"Framed in orange: training images of {answer.digit}, what it read.")
