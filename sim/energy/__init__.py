"""Energy across units, on the standard-cell engine of :mod:`sim.power`: the catalogue of units
and their workloads (units), ``picojoule energy`` (cli), the proxy beside the engine for every
unit (compare) and the engine's speed (speed). This layer imports the units; :mod:`sim.power`
sits below them and imports none."""
