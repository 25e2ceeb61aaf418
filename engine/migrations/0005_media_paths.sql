-- Chapter videos leave the public /static route (issue 14, F11): a chapter names its file
-- relative to the media folder, served at /media/chapters/<id> to learners who may watch it.
UPDATE chapters SET media = substr(media, length('/static/media/') + 1)
WHERE media LIKE '/static/media/%';
