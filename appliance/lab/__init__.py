"""The lab: the whole school on one machine, in network namespaces with the real daemons.

``carine lab up|down|status|exec``; see DESIGN.md "The lab" for the safety rules it keeps."""
