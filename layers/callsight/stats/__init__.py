"""Call statistics as mergeable daily cells (:mod:`cells`) and the daily rollup that stores them
(:mod:`rollup`), so statistics over a period cost a few items per day, not one per call."""
