"""The technician's maintenance mode on screen (issue 15; docs/maintenance.md).

`pages` are plain values of what a maintenance page shows; `screen` builds a
page's widgets (one `Screen`, 64 px targets, the theme's 7:1 colours);
`mode` carries the technician's touches to `app.maintenance.technician.
MaintenanceService` and back; `gesture` watches the welcome screen for the
discreet way in. The window (`app.ui.main_window.KioskWindow.attach_maintenance`)
holds them. Nothing here reaches the store or a driver but through the service.
"""
