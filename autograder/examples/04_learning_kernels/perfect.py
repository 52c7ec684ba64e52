"""Ada writes every function as the instructor did."""
# %% all: solution
