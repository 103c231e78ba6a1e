"""The browser dashboard: a Solara page around the engine (``geosim-dashboard``).

``choices``    what a student picked (scenario, seed, replicates, incentives) as Hydra overrides
``builder``    :class:`Draft`, a scenario built on the page, checked as scenario files are checked
``model``      :class:`LiveRun`, the engine's model built like the CLI builds it, stepped live
``figures``    the matplotlib figures (alliance over time, network, comparison with baseline)
``components`` the Solara components of the page (run controls, views, the scenario builder)
``app``        the page (``solara run sim/dashboard/app.py``)
``serve``      the ``geosim-dashboard`` command
"""
