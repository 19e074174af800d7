"""Apply: install a checked tree on the appliance through Ansible, keep generations, roll back.

``generations`` (the installed trees), ``diff`` (what would change), ``runner`` (ansible-runner,
wrapped once), ``cli`` (``carine diff``, ``apply``, ``generations``, ``ready``)."""
