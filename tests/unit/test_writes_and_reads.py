"""Writes joined into one statement, reads shifted behind a claim: the parameter numbering."""

import pytest

from backbone.reads import Read, arrays_of, hand_over, names, shifted
from backbone.writes import Write, together


def test_one_write_goes_as_it_is():
    write = Write("INSERT INTO a VALUES ($1)", (1,))
    assert together([write]) is write


def test_writes_are_joined_with_their_parameters_renumbered_in_order():
    joined = together([Write("INSERT INTO a SELECT * FROM unnest($1::int[], $2::text[])",
                             ([1], ["x"])),
                       Write("UPDATE b SET v = $2 WHERE id = $1", (7, "y")),
                       Write("INSERT INTO c VALUES ($1, $1)", (3,))])
    assert joined.sql == (
        "WITH w0 AS (INSERT INTO a SELECT * FROM unnest($1::int[], $2::text[])),"
        " w1 AS (UPDATE b SET v = $4 WHERE id = $3), w2 AS (INSERT INTO c VALUES ($5, $5))"
        " SELECT 1")
    assert joined.args == ([1], ["x"], 7, "y", 3)


def test_nothing_to_write_is_a_mistake_not_an_empty_statement():
    with pytest.raises(ValueError):
        together([])


def test_reads_follow_the_claims_parameters_and_get_their_rows_by_name():
    taken: list = []
    first = Read("SELECT id, v FROM a WHERE id = ANY($1::int[]) FOR UPDATE", ([1, 2],),
                 ("id", "v"), taken.append)
    second = Read("SELECT x FROM b WHERE y = $1 AND z = $2", ("y", "z"), ("x",), taken.append)
    items, args = arrays_of([first, second], 3)
    assert items == ("ARRAY(SELECT r FROM (SELECT id, v FROM a WHERE id = ANY($3::int[])"
                     " FOR UPDATE) r), ARRAY(SELECT r FROM (SELECT x FROM b WHERE y = $4"
                     " AND z = $5) r)")
    assert args == [[1, 2], "y", "z"]
    hand_over(first, [(1, "a"), (2, "b")])
    assert taken == [[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]]
    assert shifted("$10 $1", 2) == "$12 $3"
    assert names("id, tracking_number,\n title") == ("id", "tracking_number", "title")
