"""The lab: the whole school on one machine, in network namespaces with the real daemons.

``carine lab up|down|status|exec``; the safety rules it keeps are the README's
("The lab", **Safety**): 198.18.0.0/15 only, nothing routed to the host, everything ``carine-…``."""
