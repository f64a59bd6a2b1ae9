"""Off-hours meal ordering for patients and staff: diets, dishes, menus, orders, kitchen production and delivery."""
