"""Call statistics, pure: mergeable daily cells (:mod:`cells`) and the period summary built from them
(:mod:`summary`). The daily rollup that stores cells is :mod:`callsight.sweeps.stats_rollup`."""
