"""The files resource: endpoints, service, repository, schemas."""
