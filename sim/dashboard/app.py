"""The dashboard page: the run's controls and the choices in the sidebar, the charts, the
numbers and the scenario builder in the main column.

Serve it with ``geosim-dashboard`` (or ``solara run sim/dashboard/app.py``).
"""

from __future__ import annotations

import solara

from sim.dashboard.choices import Choices
from sim.dashboard.components import (
    CSS,
    AllianceView,
    CommandLine,
    ComparisonView,
    DyadPicker,
    ForecastView,
    IncentivesPanel,
    MonthBanner,
    NetworkView,
    NumbersTable,
    RunControls,
    ScenarioBuilder,
    ScenarioPanel,
    Session,
    explain,
    heading,
)
from sim.dashboard.model import LiveRun

TITLE = "geosim: Russia, Iran, the US, Ukraine and North Korea"
INTRO = ("The model moves one month at a time. Each month every state decides what to supply to whom "
         "(drones, missiles, soldiers, arms, trade, diplomatic cover), and what flows, shared enemies and "
         "shared projects pull each pair of states closer or push them apart. Press Step for one month or "
         "▶ Play; pick a scenario, move a slider or change the scenario's events to start again.")


@solara.component
def Page():
    choices = solara.use_reactive(Choices())
    first = solara.use_memo(lambda: LiveRun(choices.value), [])
    model = solara.use_reactive(first)
    session = Session(choices, model, solara.use_reactive(""))
    dyad = solara.use_reactive(model.value.settings["output.focus_dyad"])

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.AppBarTitle():
        solara.Text(TITLE)
    with solara.Sidebar():
        solara.Card("Scenario", children=[ScenarioPanel(session)])
        solara.Card("Run", children=[RunControls(session)])
        solara.Card("Incentives", children=[IncentivesPanel(session)])

    m = model.value
    with solara.Column(style={"padding": "0px 16px 16px 16px", "max-width": "1400px"}):
        MonthBanner(m)
        explain(INTRO)
        with solara.Row(style={"align-items": "end", "gap": "32px", "flex-wrap": "wrap"}):
            heading("How close are two states, month by month?")
            DyadPicker(m, dyad.value, dyad.set)
        # side by side when there is room, else the network goes below
        with solara.Row(style={"flex-wrap": "wrap", "gap": "16px"}):
            with solara.Column(style={"flex": "3 1 560px", "max-width": "700px"}):
                AllianceView(m, dyad.value)
            with solara.Column(style={"flex": "2 1 380px", "max-width": "480px"}):
                NetworkView(m, dyad.value)
        heading("What difference does the scenario make?")
        ComparisonView(m, dyad.value)
        NumbersTable(m)
        heading("Build your own scenario")
        ScenarioBuilder(session)
        CommandLine(m)
        heading("Forecast vs observed: a hindcast")
        ForecastView()
