"""The rule kinds, one module per family; importing this package fills
:data:`careplan.standards.KINDS`.

* :mod:`._floor_area` -- floor area per 100 households and per site;
* :mod:`._network` -- the three-level network: centres per street/town/district,
  station/canteen/street coverage, the service circle;
* :mod:`._beds` -- beds, nursing beds, social workers, care land;
* :mod:`._planning` -- planning parameters the plan applies (on-site rooms, pooling,
  life circles), evaluated as far as the inputs allow.

To add a kind, add one function decorated with
:func:`careplan.standards._registry.rule_kind` to the module of its family.
"""

from careplan.standards.kinds import _beds, _floor_area, _network, _planning  # noqa: F401
