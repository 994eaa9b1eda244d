"""What every result object of the package shares: JSON output of a dataclass."""

import json
from dataclasses import fields

__all__ = ["ResultMixin"]


class ResultMixin:
    """``to_dict`` / ``to_json`` for the result dataclasses.

    ``to_dict`` gives every field but those named in ``_not_serialised`` (fitted
    models, predictions); a subclass may override it to convert its fields.
    """

    _not_serialised = ()

    def to_dict(self):
        """JSON-ready dictionary of the serialisable fields."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in self._not_serialised}

    def to_json(self, **kwargs):
        """:meth:`to_dict` as a JSON string (``kwargs`` go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), **kwargs)
