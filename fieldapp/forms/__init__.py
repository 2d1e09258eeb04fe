"""Forms as data: definitions, their expression language, the engine, hazard rules, import.

    definition.py   the JSON format, and the loaded form, its questions and choices
    loader.py       loading and checking a definition (FormDefinitionError), as_definition
    form_files.py   reading ``<code>.v<version>.json`` and the forms shipped in resources/
    expr.py         the safe ODK-style expression language; values.py: how its values behave
    answers.py      the JSON shape of each question type's answer
    paths.py        naming an answer inside repeats (``parts[0].quantity``)
    state.py        relevance, defaults and calculations over one set of answers
    engine.py       check_answer / problems: one validation for tablet and server
    hazards.py      failed items → hazards → rectification deadlines and check jobs
    xlsform.py      ODK XLSForm (.xlsx) import with a report of what was not translated;
                    xlsform_sheets.py reads the workbook, xlsform_types.py reads its type
                    names, xlsform_rows.py translates its rows
    checklist.py    the checklist API the app used before the engine (now a thin layer)
    signed_content.py  what a customer's signature binds, and its hash (tablet and server)


Shared by the tablet and the server; the tablet's managers that fill forms on the replica
(submissions, filling, readings, rectification, signing) live in fieldapp/replica/.
"""
