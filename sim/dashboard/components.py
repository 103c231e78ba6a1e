"""The Solara components of the page. Each takes the live :class:`DashboardModel`.

Components that show the model read Mesa's ``update_counter``, which SolaraViz's Step and Play
buttons bump after every step, so they redraw each month.
"""

from __future__ import annotations

from collections.abc import Callable

import reacton.ipyvue
import reacton.ipyvuetify as rv
import solara
from mesa.visualization.utils import update_counter

from ..calendar import format_month
from ..plots import event_label
from . import figures
from .choices import MAX_REPLICATES, Choices, SliderSpec, incentive_groups, scenario_names
from .model import DashboardModel

CSS = """
.geosim-figure img { max-width: 100%; height: auto; }
/* Mesa's "Model Parameters" card stays empty: the page's own panel holds the parameters */
.v-navigation-drawer .v-card:has(> .v-card__text > .d-flex:empty) { display: none; }
.geosim-caption { font-size: 12px; opacity: 0.75; line-height: 1.3; margin: -4px 0 10px 0; }
.geosim-month { font-size: 34px; font-weight: 700; line-height: 1.1; }
.geosim-muted { opacity: 0.75; font-size: 14px; }
.geosim-event-future { opacity: 0.55; }
.geosim-heading { font-size: 19px; font-weight: 600; margin-top: 14px; }
.geosim-explain { font-size: 14px; max-width: 1100px; line-height: 1.45; }
.geosim-command { font-family: monospace; font-size: 13px; background: #f4f6f7; color: #222; padding: 6px 10px;
                  border-radius: 4px; overflow-wrap: anywhere; }
"""

REPLICATE_CHOICES = [1, 5, 20, 50, 100, 200, 500, MAX_REPLICATES]


def _figure(fig) -> None:
    with solara.Div(classes=["geosim-figure"]):
        solara.FigureMatplotlib(fig, format="png", dpi=100)


@solara.component
def MonthBanner(model: DashboardModel):
    """The current month in large type, how far the run is, and the scenario's events."""
    update_counter.get()
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
def AllianceView(model: DashboardModel, dyad_key: str):
    update_counter.get()
    _figure(figures.alliance(model, dyad_key))
    explain("Alliance strength runs from −1 (open hostility, pink) to +1 (close allies). Military: arms, drones, "
            "missiles, soldiers. Economic: trade. Diplomatic: support in the UN and other bodies. Composite "
            "(dashed): the mean of the three. Dotted lines mark the scenario's events.")


@solara.component
def NetworkView(model: DashboardModel, dyad_key: str):
    update_counter.get()
    _figure(figures.network(model, dyad_key))
    explain("Green lines join states that cooperate, red lines states that are hostile; the thicker the line, "
            "the stronger the tie.")


@solara.component
def ComparisonView(model: DashboardModel, dyad_key: str):
    update_counter.get()
    _figure(figures.comparison(model, dyad_key))
    explain("Left: the chosen scenario so far (purple) against the baseline over the whole period (grey), with "
            "the same seed and settings, so only the scenario's events differ. Right: for every pair, how much "
            "closer (green) or further apart (red) the scenario has brought the two states by this month.")


@solara.component
def DyadPicker(model: DashboardModel, dyad_key: str, on_dyad: Callable[[str], None]):
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


@solara.component
def SidebarBelowControls(children: list):
    """Sidebar content placed below Mesa's Controls card.

    Solara orders sidebar content by how deep in the component tree it is declared, shallow
    first; SolaraViz declares its controls a few levels below the page, so this nests deeper.
    (A render test checks the order.)
    """
    with solara.Column(), solara.Column():
        solara.Sidebar(children=children)


class Session:
    """The page's state: the choices, the live model and the last error (all Solara reactives)."""

    def __init__(self, choices: solara.Reactive[Choices], model: solara.Reactive[DashboardModel],
                 error: solara.Reactive[str]):
        self.choices, self.model, self.error = choices, model, error

    def apply(self, new: Choices) -> None:
        """Rebuild the model from new choices: a new run from the first month."""
        try:
            rebuilt = DashboardModel(new)
        except Exception as exc:  # a ConfigError: show it and keep the current run
            self.error.set(str(exc))
            return
        self.error.set("")
        self.choices.set(new)
        self.model.set(rebuilt)

    def change(self, path: str, value) -> None:
        self.apply(self.choices.value.set(path, value))


@solara.component
def ErrorLine(session: Session):
    if session.error.value:
        solara.Error(session.error.value)


@solara.component
def ScenarioPanel(session: Session):
    """Scenario, seed and number of runs."""
    settings = session.model.value.settings
    change = session.change
    solara.Select("Scenario", values=scenario_names(), value=settings.scenario.name,
                  on_value=lambda name: change("scenario", name), classes=["geosim-scenario"])
    with solara.Row():
        solara.InputInt("Seed (random numbers)", value=settings["seed"], on_value=lambda x: change("seed", x))
        replicates = settings["ensemble.replicates"]
        options = sorted({*REPLICATE_CHOICES, replicates})
        solara.Select("Runs (replicates)", values=options, value=replicates,
                      on_value=lambda n: change("ensemble.replicates", int(n)))
    solara.Text("Any change starts a new run at the first month. Several runs differ by chance; the charts "
                "show their median and spread.", classes=["geosim-caption"])
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
def CommandLine(model: DashboardModel):
    """The command that writes the same numbers to results.nc."""
    solara.Text("The same run on the command line (same numbers):", classes=["geosim-muted"])
    solara.Text(model.choices.command(), classes=["geosim-command"])
