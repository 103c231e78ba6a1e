"""The Solara components of the page. Each takes the live :class:`LiveRun`.

Components that show the run read :data:`month_tick`, which the run controls bump after every
step, so they redraw each month (a Solara reactive: each browser tab has its own).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import reacton.ipyvue
import reacton.ipyvuetify as rv
import solara

from ..calendar import format_month
from ..plots import event_label
from . import builder, figures
from . import forecast as fc
from .builder import Draft
from .choices import MAX_REPLICATES, Choices, SliderSpec, incentive_groups, scenario_names
from .model import LiveRun

CSS = """
.geosim-figure img { max-width: 100%; height: auto; }
.geosim-caption { font-size: 12px; opacity: 0.75; line-height: 1.3; margin: -4px 0 10px 0; }
.geosim-month { font-size: 34px; font-weight: 700; line-height: 1.1; }
.geosim-muted { opacity: 0.75; font-size: 14px; }
.geosim-event-future { opacity: 0.55; }
.geosim-heading { font-size: 19px; font-weight: 600; margin-top: 14px; }
.geosim-explain { font-size: 14px; max-width: 1100px; line-height: 1.45; }
.geosim-hindcast-table { max-width: 1300px; }
.geosim-hindcast-table td { font-size: 13px !important; vertical-align: top; padding-top: 4px !important;
                            padding-bottom: 4px !important; height: auto !important; }
.geosim-hindcast-table th { font-size: 12px !important; vertical-align: bottom; }
.geosim-hindcast-table td, .geosim-hindcast-table th { padding-left: 6px !important; padding-right: 6px !important; }
.geosim-hindcast-table .geosim-col-0 { max-width: 100px; overflow-wrap: anywhere; }
.geosim-hindcast-table .geosim-col-1 { min-width: 170px; }
.geosim-hindcast-table .geosim-col-4 { min-width: 150px; }
.geosim-command { font-family: monospace; font-size: 13px; background: #f4f6f7; color: #222; padding: 6px 10px;
                  border-radius: 4px; overflow-wrap: anywhere; }
"""

REPLICATE_CHOICES = [1, 5, 20, 50, 100, 200, 500, MAX_REPLICATES]
PLAY_PAUSE_S = 0.3  # between months while playing

month_tick = solara.reactive(0)


def _figure(fig) -> None:
    with solara.Div(classes=["geosim-figure"]):
        solara.FigureMatplotlib(fig, format="png", dpi=100)


@solara.component
def MonthBanner(model: LiveRun):
    """The current month in large type, how far the run is, and the scenario's events."""
    month_tick.get()
    s = model.settings
    with solara.Row(style={"align-items": "baseline", "gap": "24px", "flex-wrap": "wrap"}):
        with solara.Column(gap="0px"):
            solara.Text("Month", classes=["geosim-muted"])
            solara.Text(model.month_label or "not started", classes=["geosim-month", "geosim-current-month"])
            solara.Text(f"{model.months_done} of {s.months} months simulated ({model.first_month} … {model.last_month})",
                        classes=["geosim-muted"])
        with solara.Column(gap="2px", style={"flex": "1 1 360px"}):
            with solara.Div():
                solara.Text(f"Scenario: {s.scenario.name}. ", style={"font-weight": "700"})
                solara.Text(s.scenario.description)
            done = s.start + model.months_done - 1
            solara.Text("Events, numbered as in the charts (✓ happened, · still to come):", classes=["geosim-muted"])
            for i, ev in enumerate(s.scenario.events, start=1):
                past = ev.month <= done
                mark = "✓" if past else "·"
                solara.Text(f"{mark} {i}  {format_month(ev.month)} {event_label(ev)}",
                            classes=["geosim-event-past" if past else "geosim-event-future"])


def heading(text: str) -> None:
    """A section title (a plain element, not a component)."""
    solara.Text(text, classes=["geosim-heading"])


def explain(text: str) -> None:
    """A short explanation in running text."""
    solara.Text(text, classes=["geosim-explain"])


@solara.component
def AllianceView(model: LiveRun, dyad_key: str):
    month_tick.get()
    _figure(figures.alliance(model, dyad_key))
    explain("Alliance strength runs from −1 (open hostility, pink) to +1 (close allies). Military: arms, drones, "
            "missiles, soldiers. Economic: trade. Diplomatic: support in the UN and other bodies. Composite "
            "(dashed): the mean of the three. Dotted lines mark the scenario's events.")


@solara.component
def NetworkView(model: LiveRun, dyad_key: str):
    month_tick.get()
    _figure(figures.network(model, dyad_key))
    explain("Green lines join states that cooperate, red lines states that are hostile; the thicker the line, "
            "the stronger the tie.")


@solara.component
def ComparisonView(model: LiveRun, dyad_key: str):
    month_tick.get()
    _figure(figures.comparison(model, dyad_key))
    explain("Left: the chosen scenario so far (purple) against the baseline over the whole period (grey), with "
            "the same seed and settings, so only the scenario's events differ. Right: for every pair, how much "
            "closer (green) or further apart (red) the scenario has brought the two states by this month.")


@solara.component
def DyadPicker(model: LiveRun, dyad_key: str, on_dyad: Callable[[str], None]):
    """Which pair of states the charts show."""
    s = model.settings
    labels = {s.dyad_label(a, b): s.dyad_key(a, b) for a, b in s.dyads}
    current = next(label for label, key in labels.items() if key == dyad_key)
    with solara.Div(style={"max-width": "340px"}):
        solara.Select("Pair of states in the charts", values=list(labels), value=current,
                      on_value=lambda label: on_dyad(labels[label]), classes=["geosim-dyad"])


@solara.component
def IncentiveSlider(spec: SliderSpec, value: float, on_change: Callable[[str, float], None]):
    """A slider that applies its value when released, with the unit and source underneath."""
    changed = abs(value - spec.default) > 1e-9
    with solara.Row(justify="space-between", style={"margin-top": "6px"}):
        solara.Text(spec.label, style={"font-weight": "600" if changed else "400"})
        solara.Text(f"{value:g}" + (f" (default {spec.default:g})" if changed else ""), classes=["geosim-muted"])
    slider = rv.Slider(v_model=value, min=spec.low, max=spec.high, step=spec.step, thumb_label=True,
                      hide_details=True, dense=True, class_="geosim-slider")
    reacton.ipyvue.use_event(slider, "change", lambda *args: on_change(spec.path, float(args[-1])))
    solara.Text(spec.caption, classes=["geosim-caption"])


class Session:
    """The page's state: the choices, the live run and the last error (all Solara reactives)."""

    def __init__(self, choices: solara.Reactive[Choices], model: solara.Reactive[LiveRun],
                 error: solara.Reactive[str]):
        self.choices, self.model, self.error = choices, model, error

    def apply(self, new: Choices, error: solara.Reactive[str] | None = None) -> bool:
        """Rebuild the run from new choices (a new run from the first month). A bad choice
        (``ConfigError``) is shown in ``error`` (default: the session's) and changes nothing."""
        error = self.error if error is None else error
        try:
            rebuilt = LiveRun(new)
        except Exception as exc:  # a ConfigError: show it and keep the current run
            error.set(str(exc))
            return False
        error.set("")
        self.error.set("")
        self.choices.set(new)
        self.model.set(rebuilt)
        return True

    def change(self, path: str, value) -> None:
        self.apply(self.choices.value.set(path, value))

    def restart(self) -> None:
        """The same choices again from the first month."""
        self.model.set(LiveRun(self.choices.value))


@solara.component
def RunControls(session: Session):
    """Step one month, play and pause, run to the end, start again."""
    playing = solara.use_reactive(False)
    model = session.model.value
    month_tick.get()  # redraw the buttons as the months advance

    def play_loop():
        while playing.value and session.model.value.running:
            time.sleep(PLAY_PAUSE_S)
            if not playing.value:
                break
            session.model.value.step()
            month_tick.set(month_tick.value + 1)
        playing.set(False)

    solara.use_thread(play_loop, dependencies=[playing.value, model])

    def step():
        model.step()
        month_tick.set(month_tick.value + 1)

    def to_end():
        playing.set(False)
        model.run_to_end()
        month_tick.set(month_tick.value + 1)

    def again():
        playing.set(False)
        session.restart()

    done = not model.running
    with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
        solara.Button("Step", on_click=step, disabled=done or playing.value, color="primary",
                      classes=["geosim-step"])
        if playing.value:
            solara.Button("❚❚ Pause", on_click=lambda: playing.set(False), color="primary", classes=["geosim-pause"])
        else:
            solara.Button("▶ Play", on_click=lambda: playing.set(True), disabled=done, color="primary",
                          classes=["geosim-play"])
        solara.Button("Run to the end", on_click=to_end, disabled=done or playing.value, outlined=True, color="primary",
                      classes=["geosim-to-end"])
        solara.Button("Start again", on_click=again, outlined=True, classes=["geosim-again"])
    solara.Text("Step: one month. Play: a month every few tenths of a second until Pause. Run to the end: "
                f"all months up to {model.last_month} at once. Start again: back to {model.first_month}.",
                classes=["geosim-caption"], style={"margin-top": "8px"})


@solara.component
def ErrorLine(session: Session):
    if session.error.value:
        solara.Error(session.error.value)


@solara.component
def ScenarioPanel(session: Session):
    """Scenario (a preset, or the one built on the page), seed and number of runs."""
    settings = session.model.value.settings
    draft = session.choices.value.draft
    change = session.change
    yours = f"{draft.name} (built on this page)" if draft is not None else None
    names = scenario_names() + ([yours] if yours else [])
    solara.Select("Scenario", values=names, value=yours or settings.scenario.name,
                  on_value=lambda name: None if name == yours else change("scenario", name),
                  classes=["geosim-scenario"])
    with solara.Row():
        solara.InputInt("Seed (random numbers)", value=settings["seed"], on_value=lambda x: change("seed", x))
        replicates = settings["ensemble.replicates"]
        options = sorted({*REPLICATE_CHOICES, replicates})
        solara.Select("Runs (replicates)", values=options, value=replicates,
                      on_value=lambda n: change("ensemble.replicates", int(n)), classes=["geosim-runs"])
    solara.Text("Any change starts a new run at the first month. Several runs differ by chance; the charts "
                "show their median and spread. To change the scenario's events, see “Build your own "
                "scenario” below the charts.", classes=["geosim-caption"])
    ErrorLine(session)


@solara.component
def IncentivesPanel(session: Session):
    """The key incentives, each with its unit and where its default comes from."""
    settings = session.model.value.settings
    solara.Text("Move a slider and let go: the run starts again with the new value.", classes=["geosim-caption"])
    ErrorLine(session)
    for group, specs in incentive_groups().items():
        solara.Text(group, style={"font-weight": "700", "margin-top": "12px", "font-size": "15px"})
        for spec in specs:
            IncentiveSlider(spec, settings[spec.path], session.change)
    solara.Button("Restore the defaults", outlined=True, color="primary", style={"margin-top": "8px"},
                  on_click=lambda: session.apply(session.choices.value.keep_only("scenario")))


@solara.component
def CommandLine(model: LiveRun):
    """The command that writes the same numbers to results.nc."""
    solara.Text("The same run on the command line (same numbers):", classes=["geosim-muted"])
    solara.Text(model.choices.command(), classes=["geosim-command"])


@solara.component
def NumbersTable(model: LiveRun):
    """The numbers behind the comparison: every pair at the last simulated month."""
    month_tick.get()
    rows = model.numbers()
    if not rows:
        solara.Text("The numbers appear after the first month.", classes=["geosim-muted"])
        return
    name = model.settings.scenario.name
    solara.Text(f"Composite strength at {model.month_label}, median of {model.geo.R} run(s), −1 hostile … +1 allied:",
                classes=["geosim-muted"])
    head = rv.Html(tag="tr", children=[rv.Html(tag="th", children=[t]) for t in
                                       ("pair of states", name, "baseline", "difference")])
    def num(x: float) -> str:
        return f"{round(x, 3) + 0.0:+.3f}"  # + 0.0: no "-0.000"

    body = [rv.Html(tag="tr", children=[rv.Html(tag="td", children=[label]), rv.Html(tag="td", children=[num(a)]),
                                        rv.Html(tag="td", children=[num(b)]), rv.Html(tag="td", children=[num(a - b)])])
            for label, a, b in rows]
    rv.SimpleTable(dense=True, class_="geosim-numbers",
                   children=[rv.Html(tag="thead", children=[head]), rv.Html(tag="tbody", children=body)])


# --- the scenario builder --------------------------------------------------------------------

def _parse(text: str):
    """A number if the text is one; otherwise the text itself, which the scenario checks refuse
    with their own message (as they would in a file)."""
    try:
        return float(str(text).strip())
    except ValueError:
        return text


@solara.component
def EventForm(settings, draft: Draft, index: int, on_save: Callable[[dict], None], on_cancel: Callable[[], None]):
    """Add (index -1) or change one event: type, month, what it changes, the value and its range."""
    base = draft.events[index] if index >= 0 else {}
    all_months = builder.months(settings)
    first = base.get("date") or (base.get("date_window") or [None])[0]
    first = str(first) if first and str(first) in all_months else all_months[min(len(all_months) - 1, 30)]
    params = builder.parameters(settings)
    rels = builder.relations(settings)
    rel_label = {v: k for k, v in rels.items()}
    etype = solara.use_reactive(base.get("type", builder.EVENT_TYPES[0]))
    year, month = solara.use_reactive(first[:4]), solara.use_reactive(first[5:7])
    target = solara.use_reactive("a relation" if "relation" in base else "a parameter")
    parameter = solara.use_reactive(base.get("parameter") if base.get("parameter") in params else params[0])
    relation = solara.use_reactive(rel_label.get(str(base.get("relation")), next(iter(rels))))
    channel = solara.use_reactive(base.get("channel", builder.channels()[0]))
    value0 = base.get("strength", base.get("value"))
    # "" until the student types: the field then shows the default of the chosen kind of event
    value = solara.use_reactive("" if value0 is None else f"{value0:g}" if isinstance(value0, float) else str(value0))
    label = solara.use_reactive(base.get("label", ""))
    chance = solara.use_reactive(f"{base.get('probability', 1.0):g}" if isinstance(base.get("probability", 1.0), float)
                                 else str(base.get("probability")))

    named = etype.value in builder.NAMED_SHOCKS
    on_relation = not named and target.value == "a relation"
    spec = builder.value_spec(etype.value, settings, None if named or on_relation else parameter.value, on_relation)
    shown_value = value.value if value.value != "" else f"{spec.default:g}"

    years = sorted({m[:4] for m in all_months})
    in_year = [m[5:7] for m in all_months if m[:4] == year.value]
    if month.value not in in_year:
        month.set(in_year[0])

    with solara.Card(classes=["geosim-event-form"], style={"max-width": "980px"}):
        solara.Text("Change this event" if index >= 0 else "A new event", style={"font-weight": "700"})
        with solara.Row(style={"flex-wrap": "wrap", "gap": "12px", "align-items": "baseline"}):
            with solara.Div(style={"width": "180px"}):
                solara.Select("What happens", values=list(builder.EVENT_TYPES), value=etype,
                              classes=["geosim-event-type"])
            with solara.Div(style={"width": "100px"}):
                solara.Select("Year", values=years, value=year, classes=["geosim-event-year"])
            with solara.Div(style={"width": "90px"}):
                solara.Select("Month", values=in_year, value=month.value, on_value=month.set,
                              classes=["geosim-event-month"])
            with solara.Div(style={"width": "260px"}):
                solara.InputText("Label in the charts (optional)", value=label, continuous_update=True,
                                 classes=["geosim-event-label"])
        solara.Text(f"{builder.type_help(etype.value, settings)}. The month lies within the run, "
                    f"{all_months[0]} … {all_months[-1]}.", classes=["geosim-caption"])
        if not named:
            with solara.Row(style={"flex-wrap": "wrap", "gap": "12px", "align-items": "baseline"}):
                with solara.Div(style={"width": "150px"}):
                    solara.Select("It changes", values=["a parameter", "a relation"], value=target,
                                  classes=["geosim-event-target"])
                if on_relation:
                    with solara.Div(style={"width": "230px"}):
                        solara.Select("Relation", values=list(rels), value=relation, classes=["geosim-event-relation"])
                    with solara.Div(style={"width": "150px"}):
                        solara.Select("Channel", values=builder.channels(), value=channel,
                                      classes=["geosim-event-channel"])
                else:
                    with solara.Div(style={"width": "380px"}):
                        rv.Autocomplete(label="Parameter (type to search)", items=params, v_model=parameter.value,
                                        on_v_model=lambda p: p and parameter.set(p), class_="geosim-event-parameter")
            if not on_relation:
                p = builder.parameter_info(parameter.value, settings)
                solara.Text(p, classes=["geosim-caption"])
        with solara.Row(style={"flex-wrap": "wrap", "gap": "12px", "align-items": "baseline"}):
            with solara.Div(style={"width": "180px"}):
                solara.InputText(spec.label.capitalize(), value=shown_value, on_value=value.set, continuous_update=True,
                                 classes=["geosim-event-value"])
            solara.Text(spec.caption, classes=["geosim-muted", "geosim-allowed"])
        with solara.Row(style={"flex-wrap": "wrap", "gap": "12px", "align-items": "baseline"}):
            with solara.Div(style={"width": "180px"}):
                solara.InputText("Chance it happens", value=chance, continuous_update=True,
                                 classes=["geosim-event-chance"])
            solara.Text("allowed: [0, 1]; below 1 the event happens in that share of the runs",
                        classes=["geosim-muted"])
        eid = base.get("id") or draft.new_id(etype.value)

        def save():
            on_save(builder.make_event(
                etype.value, f"{year.value}-{month.value}", eid, label=label.value.strip(), value=_parse(shown_value),
                parameter=None if named or on_relation else parameter.value,
                relation=rels[relation.value] if on_relation else None,
                channel=channel.value if on_relation else None, probability=_parse(chance.value), base=base))

        with solara.Row(style={"margin-top": "8px"}):
            solara.Button("Save this event" if index >= 0 else "Add this event", on_click=save, color="primary",
                          classes=["geosim-event-save"])
            solara.Button("Cancel", on_click=on_cancel, text=True)


@solara.component
def ScenarioBuilder(session: Session):
    """Start from the current scenario, add, change and remove events, download the file."""
    choices, run_ = session.choices.value, session.model.value
    settings = run_.settings
    draft = solara.use_memo(lambda: choices.draft or builder.Draft.from_preset(settings["scenario"], settings),
                            [choices.draft, settings["scenario"]])
    editing = solara.use_reactive(None)  # None: no form; -1: a new event; i: event i
    error = solara.use_reactive("")
    opened = solara.use_reactive(0)  # a fresh form each time one opens

    def apply(new: builder.Draft) -> bool:
        return session.apply(choices.with_draft(new), error)

    def open_form(i: int) -> None:
        error.set("")
        opened.set(opened.value + 1)
        editing.set(i)

    def save(event: dict) -> None:
        i = editing.value
        if apply(draft.with_event(event, None if i == -1 else i)):
            editing.set(None)

    explain(f"The events below are those of “{draft.name if choices.draft else settings.scenario.name}”. Add, "
            "change or remove events: each change is checked as a scenario file is checked, then a new run starts "
            "from the first month, against the baseline with the same random numbers. Download the scenario to "
            "run it on the command line.")
    with solara.Column(gap="2px", classes=["geosim-event-list"], style={"margin": "6px 0"}):
        if not draft.events:
            solara.Text("No events: this is the baseline without history. Add one.", classes=["geosim-muted"])
        for i, event in enumerate(draft.events):
            with solara.Row(style={"align-items": "center", "gap": "8px"}, classes=["geosim-event-row"]):
                when = event.get("date") or "–".join(map(str, event.get("date_window", [])))
                text = f"{i + 1}  {when}  {event.get('label') or event.get('id')}: {builder.describe(event, settings)}"
                solara.Button("Change", on_click=lambda i=i: open_form(i), text=True, small=True,
                              classes=["geosim-event-change"])
                solara.Button("Remove", on_click=lambda i=i: apply(draft.without(i)), text=True, small=True,
                              color="error", classes=["geosim-event-remove"])
                solara.Text(text)
    if editing.value is None:
        with solara.Row():
            solara.Button("Add an event", on_click=lambda: open_form(-1), color="primary", outlined=True,
                          classes=["geosim-event-add"])
    else:
        EventForm(settings, draft, editing.value, save, lambda: editing.set(None)).key(f"form-{opened.value}")
    if error.value:
        solara.Error(error.value, classes=["geosim-builder-error"])
    with solara.Row(style={"flex-wrap": "wrap", "gap": "16px", "align-items": "center", "margin-top": "12px"}):
        with solara.Div(style={"width": "280px"}):
            solara.InputText("Name of your scenario (the file name)", value=draft.name,
                             on_value=lambda name: apply(draft.renamed(name)), classes=["geosim-scenario-name"])
        solara.FileDownload(draft.yaml(), filename=draft.filename, mime_type="application/x-yaml",
                            children=[solara.Button(f"Download {draft.filename}", icon_name="mdi-download",
                                                    color="primary", classes=["geosim-download"])])
    solara.Text(f"Put {draft.filename} in the folder where you run geosim, then:", classes=["geosim-muted"])
    solara.Text(choices.with_draft(draft).command(), classes=["geosim-command", "geosim-builder-command"])


FORECAST_CAPTION = ("Blue: the calibrated model's runs from the cutoff on (dark band: the middle half of the runs, "
                    "light band: 9 in 10, line: the median); grey dashed: the median of the uncalibrated model. "
                    "Red: facts published after the cutoff (the ones scored); green: facts known at the cutoff (used "
                    "to calibrate). A total over a period is drawn as a monthly rate; a comparison (higher/lower) "
                    "as a shaded period, its reference period dotted.")


@solara.component
def ForecastView():
    """Forecast vs observed: pick a cutoff, run a small hindcast, see the fans and the scores."""
    choices = fc.cutoff_choices()
    labels = list(choices)
    default = next((lab for lab in labels if choices[lab] == "2023-12"), labels[0])
    label = solara.use_reactive(default)
    requested = solara.use_reactive("")  # the cutoff whose hindcast is wanted ("" none yet)
    cutoff = choices[label.value]

    def work():
        return fc.run(requested.value) if requested.value else None

    result = solara.use_thread(work, dependencies=[requested.value])
    s = fc.PAGE_SETTINGS
    explain("Would the model have seen it coming? A hindcast pretends to stand at a past month (the cutoff): it "
            "calibrates the model on the facts published by then (the shipped observations from the articles), "
            "forecasts the facts published later, and scores the forecast against what was observed, "
            "next to two simpler forecasts: the uncalibrated model and 'the last known figure carries on'. "
            "The scenario is “combined” (the events that happened), so the forecast knows the events "
            "and forecasts their consequences.")
    with solara.Row(style={"flex-wrap": "wrap", "gap": "16px", "align-items": "center"}):
        with solara.Div(style={"width": "360px"}):
            solara.Select("Cutoff month (facts known by then)", values=labels, value=label,
                          classes=["geosim-cutoff"])
        solara.Button("Run the hindcast", on_click=lambda: requested.set(cutoff), color="primary",
                      disabled=result.state == solara.ResultState.RUNNING, classes=["geosim-hindcast-run"])
    solara.Text(f"Kept small for the page: {s['population']} particles per calibration round, at most "
                f"{s['generations']} rounds, {s['replicates']} runs per forecast (seconds to a minute; a result "
                "is kept for the session and the calibration on disk). The full hindcast, 1,000 of each: "
                f"geosim-hindcast --cutoff {cutoff}.", classes=["geosim-caption"])
    if not requested.value:
        return
    if result.state == solara.ResultState.RUNNING:
        with solara.Row(style={"align-items": "center"}):
            solara.ProgressLinear(True)
        solara.Text(f"Calibrating at {requested.value} and forecasting…", classes=["geosim-muted"])
        return
    if result.state == solara.ResultState.ERROR:
        solara.Error(f"The hindcast failed: {result.error}", classes=["geosim-hindcast-error"])
        return
    if result.value is not None:
        HindcastResult(result.value)


@solara.component
def HindcastResult(h):
    """A finished hindcast: the scores in words, one quantity's fan, the table."""
    quantity = solara.use_reactive("")
    with solara.Column(gap="4px", classes=["geosim-hindcast-summary"]):
        for line in fc.summary(h):
            solara.Text(line, classes=["geosim-explain"])
    names = h.quantities()
    shown = quantity.value if quantity.value in names else names[0]
    with solara.Div(style={"width": "300px", "margin-top": "8px"}):
        solara.Select("Quantity in the chart", values=names, value=shown, on_value=quantity.set,
                      classes=["geosim-hindcast-quantity"])
    fig = solara.use_memo(lambda: h.figure(shown), [h, shown])
    _figure(fig)
    solara.Text(FORECAST_CAPTION, classes=["geosim-caption"])
    solara.Text("Every fact published after the cutoff, scored:", classes=["geosim-muted"])
    head = rv.Html(tag="tr", children=[
        rv.Html(tag="th", children=[fc.HEADERS[c]], attributes={"title": fc.COLUMN_HELP.get(c, "")})
        for c in fc.COLUMNS])
    body = [rv.Html(tag="tr", children=[rv.Html(tag="td", children=[str(r[c])], class_=f"geosim-col-{i}")
                                        for i, c in enumerate(fc.COLUMNS)]) for r in fc.rows(h)]
    rv.SimpleTable(dense=True, class_="geosim-hindcast-table",
                   children=[rv.Html(tag="thead", children=[head]), rv.Html(tag="tbody", children=body)])
    with solara.Column(gap="0px", style={"margin-top": "6px"}):
        for c, text in fc.COLUMN_HELP.items():
            solara.Text(f"{c}: {text}", classes=["geosim-caption"], style={"margin": "0"})
    solara.Text("The same numbers on the command line (it also writes scores.csv and the charts):",
                classes=["geosim-muted"])
    solara.Text(fc.command(h.headline["cutoff"]), classes=["geosim-command"])
