"""The browser dashboard: a Mesa SolaraViz app around the engine (``geosim-dashboard``).

``choices``    what a student picked (scenario, seed, replicates, incentives) as Hydra overrides
``model``      :class:`LiveRun`, the engine's model built like the CLI builds it, stepped live
``figures``    the matplotlib figures (alliance over time, network, comparison with baseline)
``components`` the Solara components of the page
``app``        the page (``solara run sim/dashboard/app.py``)
``serve``      the ``geosim-dashboard`` command
"""
