from shoal import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, unique=True)
    published = models.DateField(null=True)
    author = models.ForeignKey("authors.Author", on_delete=models.CASCADE, related_name="books")

    def __str__(self) -> str:
        return self.title
