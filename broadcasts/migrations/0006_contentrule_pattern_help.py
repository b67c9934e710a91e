from django.db import migrations, models


class Migration(migrations.Migration):
    """Only the pattern's help text: what a keyword, a regular expression and a domain rule match."""

    dependencies = [
        ('broadcasts', '0005_fanout_storage'),
    ]

    operations = [
        migrations.AlterField(
            model_name='contentrule',
            name='pattern',
            field=models.CharField(help_text='Keyword: matches whole words, ignoring case, width (full-width letters), invisible characters (zero-width space, soft hyphen), look-alike Cyrillic and Greek letters, and how words are spaced or hyphenated: “free money” matches “FREE-money” and “ｆｒｅｅ money” but not “carefree money-back” (nor “free moneys”: add other word forms as keywords of their own); Chinese, Japanese, Korean and Thai keywords match anywhere in the text, spaces ignored. Regular expression: RE2 syntax, case-insensitive, tried on that normalised text and on the text as written; it must not match empty text. Link domain: a domain such as bit.ly; matches links a browser would open there or on a subdomain, in the URL, the cover URL and the text.', max_length=500),
        ),
    ]
