"""What the hospital offers: hospitals, departments, clinic types and doctors, the booking
policy, clinic sessions and their places, and finding them."""
