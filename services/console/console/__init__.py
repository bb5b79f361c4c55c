"""console: the web console for operators and OPD staff. It owns no complaint data: every page
is drawn from the services' public HTTP APIs, called with the signed-in user's own token, and
live alerts come from sla's Server-Sent Events through the same token."""
