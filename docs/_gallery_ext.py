"""sphinx-gallery helpers: example order and figures made without pyplot.

Referenced from ``conf.py`` by dotted name (``"_gallery_ext.example_order"``), so
the configuration stays picklable.
"""

import weakref

ORDER = (
    "plot_quickstart_pipeline.py",
    "plot_resampling.py",
    "plot_grid_search.py",
    "plot_ablation.py",
    "plot_persistence.py",
)


def example_order(filename):
    """Sort key for ``within_subsection_order``: :data:`ORDER`, then by name."""
    try:
        return (ORDER.index(filename), filename)
    except ValueError:
        return (len(ORDER), filename)


# Figures already handled: pyplot closes (and detaches) figures after scraping, so
# "has no manager" alone would pick up every earlier figure again.
_SEEN = weakref.WeakSet()


def adopt_figures(block, block_vars, gallery_conf, **kwargs):
    """Hand pyplot-free figures of an example to pyplot, for the matplotlib scraper.

    :mod:`sklearn_impression.experiments` builds its figures on
    :class:`matplotlib.figure.Figure` directly, so they never open a window; the
    stock scraper only sees pyplot's figures. Any such figure bound to a name in
    the example gets a pyplot manager here, and the ``"matplotlib"`` scraper that
    runs next saves and closes it like any other.
    """
    from matplotlib import _pylab_helpers
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Figure) or value in _SEEN:
            continue
        _SEEN.add(value)
        if value.canvas.manager is None:
            num = max(_pylab_helpers.Gcf.figs, default=0) + 1
            manager = FigureCanvasAgg.new_manager(value, num)
            _pylab_helpers.Gcf._set_new_active_manager(manager)
    return ""
