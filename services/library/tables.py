"""What the library's tables mean; they are made by its numbered history, services/library/migrations
(services/common/migrations.py).

Search: each item table keeps a stored, generated ``search`` tsvector with a GIN index.
PostgreSQL's ``russian`` configuration stems Cyrillic words with the Russian Snowball stemmer
and ASCII words with the English one (``\\dF+ russian``: asciiword -> english_stem), so one
vector makes Russian and English text both findable, each word in any grammatical form; a
second, ``english`` vector would index the Latin words twice and the Cyrillic ones not at all.
Weights: A the essence and question of a case (a material's title), B the solutions (a
material's description), C the rest (actions taken, difficulty, clarifications; a reference).

Review (services/library/review.py): a consenting completion or a forum publication is first a row of
``publication_drafts`` (the original, while it waits, beside the impersonal draft a moderator edits);
only a decision, written to the library's outbox as ``PublicationDecided`` (its own log, which the rebuild
replays), puts it into the item and forum tables. A draft's documents and a forum message's text are sealed
with their writer's key (services/library/sealing.py); the published tables are impersonal and stay plain.

The outcome columns (``problem_solved``, ``helpfulness``) and ``author_id`` serve similar cases
(services/library/similar.py); ``author_id`` never leaves the service.

Curation (services/library/curation.py) is the library's own data, not derived from any
event: ``edited_*`` and ``withdrawn_*`` columns on the items, materials added by moderators
(``origin = 'moderator'``), hidden forum posts, and the journal ``library_moderation``.
"""

TS_CONFIG = "russian"  # the text search configuration of every search vector (see above)
