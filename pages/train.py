"""Train: choose a network and how it learns, start it, and watch the loss and accuracy live.

Settings sit in the sidebar and in the URL, so a link hands out a setup (`?classroom=1` keeps only the
basic controls). The run trains in a background thread (digitlab.classroom.runs.TrainingRun) kept in
the browser session, so the curves survive a visit to the Draw page. A fragment polls it every 0.4 s
while it runs; afterwards the results show, the new network becomes the session's model, the run joins
the session's history for the Compare page, and its model, metrics and charts can be downloaded.
"""

import streamlit as st

from digitlab import config, data, estimate, glossary, image_charts
from digitlab.app import resources, settings_form, state, widgets, workarounds
from digitlab.app.model_upload import model_upload
from digitlab.app.run_views import live_view, results, run_controls

workarounds.through_router()
st.title("Train a network")
dataset = widgets.require_dataset()
state.settle_finished_run()  # its model for Draw, its record for Compare
run = state.current_run()
busy = run is not None and not run.done
if settings_form.key("preset") not in st.session_state:
    settings_form.settings_from_link()
classroom = settings_form.classroom_mode()
intro = st.container(horizontal=True, vertical_alignment="center", wrap=True)  # filled once the form has run
intro.caption("Pick the settings in the sidebar, press Start and watch the network learn.", width="stretch")
with st.sidebar:
    if classroom:
        st.info(
            "Classroom mode: only the basic settings are shown; the others follow the preset.",
            icon=":material/school:",
        )
    train_config = settings_form.settings_sidebar(busy, classroom)
    model_upload("train_model_file")
settings_form.share_link(classroom, intro)  # at the top, where a teacher looks: not under 17 controls

controls = st.container(horizontal=True, vertical_alignment="center")
if controls.button(
    "Start training",
    type="primary",
    icon=":material/play_arrow:",
    key="train_start",
    disabled=busy or train_config is None,
):
    state.start_training(train_config, dataset)
    st.rerun()  # lock the settings and start polling
run_controls(run, controls)
controls.button(
    "Stop",
    icon=":material/stop:",
    key="train_stop",
    disabled=not busy,
    on_click=run.stop if busy else None,
)
resources.calibrate_in_the_background()  # the forecasts below become this server's own
if train_config is not None and not busy:  # while a run trains, its progress bar has the live ETA
    if warning := estimate.memory_warning(train_config, estimate.available_memory_bytes()):
        controls.warning(warning, icon=":material/memory:")
    forecast = resources.forecasts().forecast(train_config)
    if warning := estimate.long_run_warning(train_config, forecast):
        controls.warning(warning, icon=":material/schedule:")
    else:
        controls.caption(f"Takes about {estimate.format_duration(forecast)} on this server.")

if run is None:
    st.info("No network trained yet in this session. The Quick demo preset trains in about 10 seconds.")
else:
    learnt_from = config.TRAINING_DATA[run.config.data]
    size = f"{run.config.train_size:,} images ({learnt_from})"
    shown = glossary.friendly_name(run.config.label)
    st.markdown(
        f"**{shown}** · {run.config.epochs} epochs on {size}",
        help=glossary.technical_help(run.config.label),
    )
    st.fragment(live_view, run_every=0.4 if busy else None)(run, polling=busy)
    if run.done:
        results(run, dataset)

with st.expander("Preview the training images"):
    picks = data.sample_grid_indices(dataset.y_train, per_class=3, seed=1)
    preview = image_charts.image_grid(
        dataset.x_train[picks], [str(y) for y in dataset.y_train[picks]], columns=10
    )
    st.plotly_chart(preview, theme=None, width="content", config={"displayModeBar": False})
