"""Front desk lending: wheelchairs, flat carts, umbrellas, reading glasses."""
