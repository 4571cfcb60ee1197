"""Printing the doctor's documents on the cabin's printer (CUPS).

Pure parts (what is printed: `page`, the INS datamatrix: `ins_datamatrix`,
the PDF: `pdf`) and one edge (`cups`: `lp`/`lpstat` from cups-client). Why
and how: docs/printing.md.
"""
