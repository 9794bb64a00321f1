from opnote_audit.cli import main

main()
