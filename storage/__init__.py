"""CARINE storage: WebDAV homes and shares (WsgiDAV) with our directory, rights, quotas,
drop boxes and antivirus; backups with borgbackup."""
