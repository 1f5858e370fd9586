from scslab.cli import app

app(prog_name="scslab")
