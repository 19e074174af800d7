"""The school's directory: people from the AAF exports or CSV, their accounts, devices and guest
vouchers, in the shared state store. Importers, the portal and FreeRADIUS all read it here."""
