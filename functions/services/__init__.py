"""Services: the domain logic behind the handlers. They take repositories, never Flask objects."""
