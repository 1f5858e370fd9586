"""Run directories: written atomically, marked complete only at the end."""
